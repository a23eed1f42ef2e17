"""Use cases of a node. They own transactions; they know the store, never HTTP."""
