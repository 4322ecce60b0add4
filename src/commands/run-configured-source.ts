import type { AppConfig } from '../config';
import { ConfigError } from '../errors';
import { runHubbleSource } from '../collector/run-hubble-source';
import { runPrometheusSource } from '../collector/run-prometheus-source';
import type { RunSourceOptions } from '../collector/start-collector-runtime';

/** Refuses settings the chosen source cannot run with, before anything is started. */
export function checkSourceSettings(config: AppConfig): void {
  if (config.collector.source === 'prometheus' && !config.prometheus.url) {
    throw new ConfigError(['HG_PROMETHEUS_URL / --prometheus-url: required with --source prometheus']);
  }
}

/**
 * Runs the source `collector.source` names (HG_SOURCE / --source) until `signal` aborts: Hubble over
 * gRPC, or Hubble's metrics in Prometheus. Both feed the collector's one flusher. Resolves after the
 * final flush; false when something could not be written.
 */
export function runConfiguredSource(options: RunSourceOptions): Promise<boolean> {
  checkSourceSettings(options.config);
  return options.config.collector.source === 'prometheus' ? runPrometheusSource(options) : runHubbleSource(options);
}
