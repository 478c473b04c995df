"""Running a conversion on dask.distributed: an existing scheduler or a LocalCluster.

The writer's region tasks run on whatever ``dask.distributed`` client is active, so the
Python API needs nothing more than a ``Client`` the caller opened.  The command line
opens one for the duration of a conversion with :func:`cluster_client`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ..errors import NgffError

__all__ = ["cluster_client"]


@contextlib.contextmanager
def cluster_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` connected to ``scheduler``, or to a new ``LocalCluster``.

    Parameters
    ----------
    scheduler
        Address of a running scheduler (``tcp://HOST:PORT``).
    workers
        Number of worker processes of a new ``LocalCluster`` (one thread each),
        when no scheduler is given.

    Yields
    ------
    distributed.Client or None
        None when neither is given (the threaded scheduler is used).
    """
    if scheduler is None and workers is None:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise NgffError(
            "running on a cluster needs dask.distributed: pip install 'napari-ngff[distributed]'",
            rule="scheduler",
        ) from None
    if scheduler is not None and workers is not None:
        raise NgffError("give a scheduler address or a number of workers, not both", rule="scheduler")
    cluster = None
    try:
        if scheduler is not None:
            client = Client(scheduler, timeout="10s")
        else:
            if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
                raise NgffError(f"workers must be a positive integer, got {workers!r}", rule="workers")
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
    except NgffError:
        raise
    except (OSError, TimeoutError) as exc:
        raise NgffError(f"cannot connect to the dask scheduler: {exc}", location=str(scheduler), rule="scheduler") from exc
    try:
        with client.as_current():
            yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
