"""The library API gives the CLI's report, also when partitions are audited apart and merged."""

from __future__ import annotations

import json
import pickle

import pytest

from cs_audit import api
from conftest import SAMPLES


def test_merged_partitions_equal_the_cli_report(run_cli):
    partials = [api.audit_file(path, "taobao") for path in api.input_files([SAMPLES])]
    for partial in partials:
        assert pickle.loads(pickle.dumps(partial)) == partial
    document = api.json_document(api.merge(partials), "taobao")
    cli = json.loads(run_cli("audit", SAMPLES, "--rubric", "taobao", "--format", "json", "-q").stdout)
    assert document == cli


@pytest.mark.slow
def test_dask_local_cluster_gives_the_cli_report(run_cli):
    # dask[distributed] is one of the test extras: a missing one fails here rather than skips.
    from dask import distributed

    # No dashboard: nothing listens on a fixed port, so parallel runs of the suite cannot clash.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        futures = client.map(api.audit_file, api.input_files([SAMPLES]), rubric="taobao")
        document = api.json_document(api.merge(client.gather(futures)), "taobao")
    cli = json.loads(run_cli("audit", SAMPLES, "--rubric", "taobao", "--format", "json", "-q").stdout)
    assert document == cli
