"""Your exercise files. Edit them, then run ``python -m patterns check exNN``.

``python -m patterns reset exNN`` restores a starting stub and keeps your version.
"""
