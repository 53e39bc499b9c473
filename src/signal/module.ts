// `WS /signal`: GemmaPod origins and their visitors (see shared/gemmapod-wire.md).
import { jsonError } from "../http/errors.ts";
import type { ProtocolModule } from "../protocols/module.ts";
import { Broker } from "./broker.ts";
import { newSocketData } from "./socket-data.ts";

export const signalProtocol: ProtocolModule = {
  name: "signal",
  open({ settings, hub, bindings, telemetry, hooks }) {
    const broker = new Broker({
      hub,
      maxMessageBytes: settings.maxMessageBytes,
      messageRate: settings.wsMessageRate,
      maxSessionsPerSocket: settings.maxSessionsPerSocket,
      maxSessionsPerPod: settings.maxSessionsPerPod,
      answerTimeoutMs: settings.sessionAnswerTimeoutMs,
      originAuth: settings.originAuth,
      bindings,
      onOriginRegistered: (podId) => {
        telemetry.originRegistered(podId);
        hooks.onOriginRegistered?.(podId);
      },
      onOriginDisconnected: (podId) => {
        telemetry.originGone(podId);
        hooks.onOriginDisconnected?.(podId);
      },
      observer: telemetry.signal,
    });
    telemetry.metrics.originsOnline.track(() => broker.originCount());
    telemetry.metrics.sessionsNegotiating.track(() => broker.sessionCount());
    return {
      // Frames up to twice the limit get a JSON error from the broker; bigger ones close 1009.
      sockets: { signal: { ...broker.handlers(), maxFrameBytes: settings.maxMessageBytes * 2 } },
      upgrades: {
        "/signal": (req, srv, ip) => {
          if (srv.upgrade(req, { data: newSocketData(settings.wsMessageRate * 2, ip) })) return undefined;
          return jsonError(426, "WS /signal expects a websocket upgrade", { Upgrade: "websocket" });
        },
      },
      health: () => ({ origins: broker.originPodIds(), sessions: broker.sessionCount() }),
      status: () => ({ origins: broker.originCount(), sessions: broker.sessionCount(), sessionsStarted: broker.sessionsStarted() }),
      close: () => broker.closeAll(),
    };
  },
};
