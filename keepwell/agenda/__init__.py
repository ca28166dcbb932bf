"""Today's agenda: one ordered list for one person — what to do, why now, how to be personal."""
