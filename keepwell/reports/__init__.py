"""Retention reports: the queries behind `keepwell report NAME`, tables and charts."""
