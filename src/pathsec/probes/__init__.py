"""Probes of live endpoints: one module per probe, each registered once in
:data:`pathsec.probes.registry.PROBES`.

:mod:`~pathsec.probes.interface` is the contract (what a probe declares and returns),
:mod:`~pathsec.probes.runtime` the bounded connection I/O, :mod:`~pathsec.probes.blocking`
the thread pool of synchronous client libraries, :mod:`~pathsec.probes.text` text hygiene.
The engine (:mod:`pathsec.audit.engine`) runs the probes of an endpoint in stages: a TCP
connect, the application probe of the endpoint's protocol, then the follow-up probes
(``tls``, ``ntlm``), which plan from what the application probe saw.
"""
