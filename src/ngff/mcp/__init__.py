"""An MCP (Model Context Protocol) server so AI agents can use ngff.

``ngff mcp`` starts it (see ``docs/mcp.md``).  The package splits into:

* :mod:`ngff.mcp.safety` - the sandbox: root folders, symlink escapes, write and URL permissions;
* :mod:`ngff.mcp.tools` - what each tool does, as plain functions (no SDK needed);
* :mod:`ngff.mcp.render`, :mod:`ngff.mcp.region`, :mod:`ngff.mcp.png` - planes to pictures,
  regions to statistics, pixels to PNG bytes;
* :mod:`ngff.mcp.server` - the tools on the official ``mcp`` SDK (imported only there);
* :mod:`ngff.mcp.command` - the ``ngff mcp`` command.

Importing this package imports neither the SDK nor numpy.
"""

from __future__ import annotations

from .safety import AccessDeniedError, Sandbox

__all__ = ["AccessDeniedError", "Sandbox"]
