"""dag_sync_connection_mysql_s3_acode: the seed's DAG, unchanged but for the
Airflow connection it uses, now pointed at `acode serve` instead of Airbyte.

acode serve speaks Airbyte's APIs, so the stock operators of
apache-airflow-providers-airbyte drive it:

* provider <= 3.x (Airbyte config API, basic auth): create the connection
  `airbyte_acode` of type Airbyte with host `acode.internal`, port `8001`,
  login = $ACODE_API_USER and password = $ACODE_API_PASSWORD of acode serve,
  for example
      AIRFLOW_CONN_AIRBYTE_ACODE='airbyte://airflow:PASSWORD@acode.internal:8001'
* provider >= 4 (Airbyte public API, client credentials): host
  `http://acode.internal:8001/v1/`, login = client_id = $ACODE_API_USER,
  password = client_secret = $ACODE_API_PASSWORD; the token URL is the
  provider's default `v1/applications/token`.

`connection_id` takes the connection's resource_name, as below, or the UUID
acode shows for it (`GET /api/acode/status`). acode runs one job per
connection at a time and fails over to the backup replica by itself; a
trigger while a job runs answers 409 and this task fails, which
max_active_runs=1 prevents in the first place.

Owner data-engineering; manual (triggered by the upstream orchestrator
DAG); max_active_runs 1; 1 retry after 15 minutes; a sync may take up to
the seed's 3 hours (its 2-hour SLA is watched by acode's own alerts and
deploy/monitoring, which work whatever the Airflow version).
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.airbyte.operators.airbyte import AirbyteTriggerSyncOperator
from airflow.providers.airbyte.sensors.airbyte import AirbyteJobSensor

AIRBYTE_CONN_ID = "airbyte_acode"  # the Airflow connection to acode serve
CONNECTION = "connection_mysql_s3_acode"  # resource_name in the Octavia project

default_args = {
    "owner": "data-engineering",
    "depends_on_past": False,
    "retries": 1,
    "retry_delay": timedelta(minutes=15),
}

with DAG(
    dag_id="dag_sync_connection_mysql_s3_acode",
    description="Sync ACODE fiscal tables (MySQL) to the S3 bronze layer with acode",
    default_args=default_args,
    start_date=datetime(2025, 1, 1),
    schedule=None,  # manual: triggered by the upstream orchestrator DAG
    catchup=False,
    max_active_runs=1,
    tags=["acode", "bronze", "airbyte-api"],
) as dag:
    trigger_acode_sync = AirbyteTriggerSyncOperator(
        task_id="trigger_acode_sync",
        airbyte_conn_id=AIRBYTE_CONN_ID,
        connection_id=CONNECTION,
        asynchronous=True,  # return the job id at once; the sensor waits
    )

    wait_acode_sync = AirbyteJobSensor(
        task_id="wait_acode_sync",
        airbyte_conn_id=AIRBYTE_CONN_ID,
        airbyte_job_id=trigger_acode_sync.output,
        poke_interval=120,  # every 2 minutes, as the seed's recovery DAG
        timeout=3 * 60 * 60,  # the seed's maximum sync duration
        mode="reschedule",  # free the worker slot between pokes
    )

    trigger_acode_sync >> wait_acode_sync
