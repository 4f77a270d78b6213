"""raising_import_app.py - a module that raises while being imported."""
raise ZeroDivisionError("raised at import on purpose")
