"""presidio."""
