# Airflow image for the virtual-human cutover: the official Airflow image plus the pinned
# providers. The DAG, the plugins and the configuration are mounted by docker-compose.yaml,
# so changing them needs no rebuild. Rebuild after requirements.txt or constraints.txt change:
#   docker-compose build
FROM apache/airflow:3.3.2-python3.11

# The official image installs Python packages as the "airflow" user, never as root.
USER airflow

COPY --chown=airflow:root requirements.txt constraints.txt /opt/vh-cutover/

# Naming apache-airflow again keeps pip from replacing the image's Airflow with another version
# while it resolves the providers. constraints.txt locks every transitive dependency.
RUN pip install --no-cache-dir \
        "apache-airflow==3.3.2" \
        -r /opt/vh-cutover/requirements.txt \
        -c /opt/vh-cutover/constraints.txt
