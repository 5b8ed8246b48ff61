"""One module per schema revision, in a single linear history."""
