// The reference WebSocket tracker for the bench: bittorrent-tracker's Server with only its
// websocket tracker (no HTTP announce, no UDP, no stats page), as `bittorrent-tracker --ws` runs.
// /health answers 200 so the bench knows it is up.
//   node scripts/bench/reference-tracker.mjs PORT HOST
import Server from "bittorrent-tracker/server";

const [port = "0", host = "127.0.0.1"] = process.argv.slice(2);
const server = new Server({ http: false, udp: false, ws: true, stats: false });
server.on("error", (error) => {
  console.error(`tracker error: ${error.message}`);
  process.exit(1);
});
server.on("warning", () => {});
server.on("listening", () => {
  server.http.prependListener("request", (req, res) => {
    if (req.url === "/health") res.end("ok");
  });
  console.log(`listening on http://${host}:${server.ws.address().port}`);
});
server.listen(Number(port), host);
