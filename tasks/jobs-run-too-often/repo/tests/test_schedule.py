from datetime import datetime, timedelta

import pytest

from jobrunner import Job, JobConfigError, jobs_from_config

START = datetime(2024, 5, 1, 8, 0)


def test_new_job_is_due_immediately():
    assert Job("report", every="1h").is_due(START)


def test_job_waits_for_its_interval():
    job = Job("report", every="1h", last_run=START)
    assert not job.is_due(START + timedelta(minutes=59))
    assert job.is_due(START + timedelta(hours=1))


def test_upcoming_hourly():
    assert Job("report", every="1h").upcoming(START, 3) == [START, datetime(2024, 5, 1, 9), datetime(2024, 5, 1, 10)]


def test_upcoming_every_hour_and_a_half():
    times = Job("sync", every="1h30m").upcoming(START, 3)
    assert [t.strftime("%H:%M") for t in times] == ["08:00", "09:30", "11:00"]


def test_config_timeouts():
    (backup, cleanup) = jobs_from_config({"jobs": {"backup": {"every": "1d", "timeout": "2m30s"},
                                                   "cleanup": {"every": "6h"}}})
    assert backup.timeout_seconds == 150
    assert cleanup.timeout_seconds is None


def test_config_rejects_bad_interval():
    with pytest.raises(JobConfigError, match="cleanup: every"):
        jobs_from_config({"jobs": {"cleanup": {"every": "often"}}})
