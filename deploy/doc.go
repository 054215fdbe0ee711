// Package deploy holds no code: its directories are the files that run
// acode in production (Airflow DAG, systemd unit, container file,
// Kubernetes manifests, Prometheus and DataDog monitors). Its tests check
// them: they parse, they use only metrics acode exports, and they carry
// the seed's thresholds.
package deploy
