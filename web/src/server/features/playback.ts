// Playback: writes the PLAYBACK_* / VIRAL_* configuration into app_private.playback_settings at start
// (the one place the HLS URL derivation reads it from) and exposes viral-mode health as metrics.
// Failure reports from players need no route: they are the GraphQL mutation reportPlaybackFailure.
import { Gauge } from "prom-client";
import { muxSettings } from "../../../../core/video/mux.ts";
import type { FeatureFactory } from "./types.ts";

interface PlaybackMetrics {
  streams_hls: number;
  streams_check_failing: number;
  checks_failed: number;
  failure_reports: number;
}

export const playbackFeature: FeatureFactory = async (ctx) => {
  const { config, ownerPool, registry, logger } = ctx;
  try {
    await ownerPool.query("select app_private.configure_playback($1, $2, $3, null, $4, $5)", [
      config.PLAYBACK_ORIGIN_URL ?? null,
      config.PLAYBACK_CDN_URL ?? null,
      config.PLAYBACK_MUX_URL,
      config.VIRAL_ENTER_VIEWERS,
      config.VIRAL_EXIT_VIEWERS,
    ]);
  } catch (e) {
    // A database without the playback migration (partial test setups): no playback, no metrics.
    if ((e as { code?: string }).code === "42883") {
      logger.warn("playback is not migrated in this database: viral mode is off");
      return { name: "playback" };
    }
    throw e;
  }

  // Where a LiveKit egress sends viral streams that have no HLS source of their own.
  const egress = ctx.livekit ? (muxSettings(config) ? "mux" : config.PLAYBACK_ORIGIN_URL ? "origin" : null) : null;
  let egressMigrated = true;
  try {
    await ownerPool.query("select app_private.configure_egress($1)", [egress]);
  } catch (e) {
    if ((e as { code?: string }).code !== "42883") throw e;
    egressMigrated = false;
    logger.warn("egress is not migrated in this database: viral streams need an HLS source of their own");
  }

  // One query per scrape feeds all four gauges (the worker may run in another process).
  let pending: Promise<PlaybackMetrics | null> | null = null;
  const read = () => {
    pending ??= ownerPool
      .query<PlaybackMetrics>("select * from app_private.playback_metrics()")
      .then((r) => r.rows[0] ?? null)
      .catch((e: Error) => {
        logger.warn({ err: e }, "could not read playback metrics");
        return null;
      })
      .finally(() => {
        setTimeout(() => {
          pending = null;
        }, 0);
      });
    return pending;
  };
  const gauge = (name: string, help: string, key: keyof PlaybackMetrics) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const m = await read();
        if (m) this.set(m[key]);
      },
    });
  gauge("trollcity_playback_streams_hls", "Streams whose viewers are on HLS (viral mode).", "streams_hls");
  gauge(
    "trollcity_playback_streams_check_failing",
    "Streams whose last HLS health check failed (viewers kept on their current path; alert when > 0).",
    "streams_check_failing",
  );
  gauge("trollcity_playback_hls_checks_failed", "HLS health checks that failed (history in app_private.hls_checks).", "checks_failed");
  gauge("trollcity_playback_failure_reports", "Playback failures reported by players (all streams).", "failure_reports");

  // LiveKit egresses of viral streams (app_private.stream_egresses).
  if (!egressMigrated) return { name: "playback" };
  interface EgressMetrics {
    active: number;
    starting: number;
    failed: number;
    failures: number;
  }
  let egressPending: Promise<EgressMetrics | null> | null = null;
  const readEgress = () => {
    egressPending ??= ownerPool
      .query<EgressMetrics>("select * from app_private.egress_metrics()")
      .then((r) => r.rows[0] ?? null)
      .catch((e: Error) => {
        logger.warn({ err: e }, "could not read egress metrics");
        return null;
      })
      .finally(() => {
        setTimeout(() => {
          egressPending = null;
        }, 0);
      });
    return egressPending;
  };
  const egressGauge = (name: string, help: string, key: keyof EgressMetrics) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const m = await readEgress();
        if (m) this.set(m[key]);
      },
    });
  egressGauge("trollcity_egress_active", "LiveKit egresses feeding HLS now (viral streams).", "active");
  egressGauge(
    "trollcity_egress_starting",
    "LiveKit egresses starting or waiting to retry (viewers stay on the stage meanwhile).",
    "starting",
  );
  egressGauge("trollcity_egress_failed", "LiveKit egresses given up after their retries (alert when > 0).", "failed");
  egressGauge("trollcity_egress_failures", "Failed egress attempts, all streams (each retried with backoff).", "failures");
  return { name: "playback" };
};
