// h2_openai.js: an HTTP/2-only OpenAI-compatible chat server for Sluice's
// tests, on node's built-in http2 module (no npm package).
//
// Serves POST /v1/chat/completions (reply "echo: " + the last user message,
// with usage) and GET /stats on 127.0.0.1, either over TLS with ALPN "h2"
// offered first (--tls KEY CERT) or as cleartext
// h2c with prior knowledge (no --tls). Over TLS it also accepts HTTP/1.1,
// so the counts show which protocol the client chose. /stats reports what the server saw
// of the protocol: requests per HTTP version, connections (sessions), the
// ALPN protocol of each, and the most streams open at once on one
// connection (multiplexing). Prints "listening on 127.0.0.1:PORT" when ready.
//
// With --http1-only (and --tls) it is a plain HTTPS server that offers no
// h2 at all.
//
//   node h2_openai.js [--tls key.pem cert.pem [--http1-only]]
//                     [--latency-ms N] [--port P]
'use strict';
const http2 = require('http2');
const https = require('https');
const fs = require('fs');

const args = process.argv.slice(2);
let tls = null;
let latency = 0;
let port = 0;
let http1Only = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--tls') {
    tls = {key: fs.readFileSync(args[i + 1]), cert: fs.readFileSync(args[i + 2])};
    i += 2;
  } else if (args[i] === '--latency-ms') {
    latency = Number(args[++i]);
  } else if (args[i] === '--http1-only') {
    http1Only = true;
  } else if (args[i] === '--port') {
    port = Number(args[++i]);
  }
}

const stats = {
  requests: 0, chat: 0, versions: {}, h2_sessions: 0, alpn: {},
  max_streams_per_session: 0, max_open_streams: 0, max_open_requests: 0,
  prompt_tokens: 0, completion_tokens: 0,
};

function onSession(session) {
  stats.h2_sessions++;
  const alpn = session.alpnProtocol || 'none';
  stats.alpn[alpn] = (stats.alpn[alpn] || 0) + 1;
  session.sl_total = 0;
  session.sl_open = 0;
}

function reply(res, code, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(code, {'content-type': 'application/json',
                       'content-length': Buffer.byteLength(body)});
  res.end(body);
}

let openRequests = 0;

function onRequest(req, res) {
  openRequests++;
  stats.max_open_requests = Math.max(stats.max_open_requests, openRequests);
  res.on('close', () => { openRequests--; });
  const session = req.stream ? req.stream.session : null;
  if (session) {
    session.sl_total++;
    session.sl_open++;
    stats.max_streams_per_session = Math.max(stats.max_streams_per_session,
                                             session.sl_total);
    stats.max_open_streams = Math.max(stats.max_open_streams,
                                      session.sl_open);
    req.stream.on('close', () => { session.sl_open--; });
  }
  if (req.method === 'GET' && req.url === '/stats') {
    reply(res, 200, stats);
    return;
  }
  stats.requests++;
  const v = 'HTTP/' + req.httpVersion;
  stats.versions[v] = (stats.versions[v] || 0) + 1;
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
      reply(res, 404, {error: {message: 'not found'}});
      return;
    }
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
    } catch (e) {
      reply(res, 400, {error: {message: 'bad json'}});
      return;
    }
    stats.chat++;
    const users = (body.messages || []).filter((m) => m.role === 'user');
    const last = users.length ? String(users[0].content) : '';
    const content = 'echo: ' + last;
    const usage = {prompt_tokens: last.split(/\s+/).filter(Boolean).length,
                   completion_tokens: content.split(/\s+/).length,
                   total_tokens: 0};
    stats.prompt_tokens += usage.prompt_tokens;
    stats.completion_tokens += usage.completion_tokens;
    setTimeout(() => {
      reply(res, 200, {
        id: 'chatcmpl-h2', object: 'chat.completion', model: body.model,
        choices: [{index: 0, finish_reason: 'stop',
                   message: {role: 'assistant', content: content}}],
        usage: usage});
    }, latency);
  });
}

const server = tls && http1Only
  ? https.createServer({key: tls.key, cert: tls.cert})
  : tls ? http2.createSecureServer({key: tls.key, cert: tls.cert,
                                     allowHTTP1: true})
        : http2.createServer();
server.on('session', onSession);
server.on('request', onRequest);
server.on('secureConnection', (sock) => {
  if (sock.alpnProtocol !== 'h2') {
    const a = sock.alpnProtocol || 'none';
    stats.alpn[a] = (stats.alpn[a] || 0) + 1;
  }
});
server.on('sessionError', () => {});
server.listen(port, '127.0.0.1', () => {
  console.log('listening on 127.0.0.1:' + server.address().port);
});
process.on('SIGTERM', () => process.exit(0));
