"""import_error_app.py - a module whose import fails, for the bad-app-spec tests."""
import this_module_does_not_exist_asgid  # noqa: F401

app = None
