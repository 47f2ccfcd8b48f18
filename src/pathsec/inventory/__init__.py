"""Ways to get a deployment file: a starter, the shipped examples, Exchange's own inventory.

Public API: :func:`starter_deployment`, :func:`list_examples`, :func:`collector_script`,
:func:`import_exchange`.
"""
