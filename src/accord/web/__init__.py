"""HTTP: the TAXII 2.1 API and the node's public pages."""
