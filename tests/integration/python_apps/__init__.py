"""ASGI apps the Python integration tests (tests/integration/test_python_*.py) run in asgid.

asgid imports them by module name with app_dir = tests/integration, e.g.
`python_apps.probe:app`. `harness.py` is the test side (it starts servers for the tests and
is never imported by asgid).
"""
