"""Operating the desk: backups and restores."""
