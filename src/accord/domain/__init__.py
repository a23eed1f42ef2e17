"""The pure core of a node: organisations, TLP 2.0, the sharing policy, errors. No web, no SQL."""
