// The Rondevu-compatible topic API over HTTP (offers and answers by topic, long polls).
import type { ProtocolModule } from "../../protocols/module.ts";
import { openRondevu } from "./open.ts";

export const rondevuProtocol: ProtocolModule = {
  name: "rondevu",
  open({ settings, registry, hub, telemetry }) {
    const rondevu = openRondevu(settings, registry, hub, telemetry.log);
    return { sockets: {}, mount: { prefix: settings.rondevuPrefix, app: rondevu.app }, close: () => rondevu.close() };
  },
};
