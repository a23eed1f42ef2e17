"""Federation and early warning (issue 5): signed, loss-free sharing between partners' nodes."""
