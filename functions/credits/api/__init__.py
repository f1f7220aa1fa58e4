"""HTTP: the Flask routes behind the ``api`` function, who is calling (ID tokens and the admin
claim), the error shape, and the one OpenAPI document (``openapi.yaml``), which the routes
serve and the web app's types are generated from.

May import: core, flows, reads, operations.
"""
