"""Stage 2, the topology: an organisation's deployment file as validated, frozen data.

Public API: :func:`load_deployment`, :func:`load_deployment_text`, :class:`Deployment`.
"""

from pathsec.topology.loader import check_references, load_deployment, load_deployment_text
from pathsec.topology.models import Deployment
from pathsec.topology.schema import deployment_json_schema

__all__ = [
    "Deployment",
    "check_references",
    "deployment_json_schema",
    "load_deployment",
    "load_deployment_text",
]
