"""The scoring job: order history and desk records → analytics → the `scores` table."""
