// Callback receiver for bench/delivery.sh: HTTP/1.1 keep-alive on 127.0.0.1,
// answers every POST with 204 after reading the body. Prints its port.
//
// usage: node delivery_receiver.js
"use strict";

const http = require("http");

const server = http.createServer((req, res) => {
  req.on("data", () => {});
  req.on("end", () => {
    res.writeHead(204);
    res.end();
  });
});
server.keepAliveTimeout = 30000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(String(server.address().port) + "\n");
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
