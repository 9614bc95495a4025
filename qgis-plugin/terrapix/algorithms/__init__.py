"""One class per Processing algorithm."""
