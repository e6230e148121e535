"""A tiny Django 3.2 application on galaxy (see app.py)."""
