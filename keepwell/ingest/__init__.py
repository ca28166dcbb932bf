"""Getting data in: CSV imports and the demo generator."""
