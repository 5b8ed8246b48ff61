"""The store's data and what the shopper means: catalog format, product matching, order parsing.

Pure Python: no database, no network.
"""
