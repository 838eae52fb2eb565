// verify.js - checks hookd's deliveries with implementations that are not
// hookd's: the `standardwebhooks` package (v1, HMAC) and Node's own crypto
// (v1a, Ed25519). Reads JSON from stdin:
//   {"secret": "whsec_...", "public_key": "whpk_...",
//    "deliveries": [{"headers": {...}, "body": "<exact body>"}]}
// and prints one JSON line per delivery: {"v1": true|false, "v1a": true|false}.
"use strict";
const crypto = require("crypto");
const { Webhook } = require("standardwebhooks");

function verifyV1(secret, headers, body) {
  try {
    new Webhook(secret).verify(body, headers);
    return true;
  } catch (e) {
    return false;
  }
}

function verifyV1a(publicKey, headers, body) {
  const raw = Buffer.from(publicKey.replace(/^whpk_/, ""), "base64");
  const key = crypto.createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") },
    format: "jwk",
  });
  const signed = Buffer.from(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`);
  return headers["webhook-signature"].split(" ").some((entry) => {
    const [version, sig] = entry.split(",");
    return version === "v1a" && crypto.verify(null, signed, key, Buffer.from(sig, "base64"));
  });
}

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const job = JSON.parse(input);
  for (const d of job.deliveries) {
    const headers = {};
    for (const [k, v] of Object.entries(d.headers)) headers[k.toLowerCase()] = v;
    console.log(JSON.stringify({
      v1: verifyV1(job.secret, headers, d.body),
      v1a: job.public_key ? verifyV1a(job.public_key, headers, d.body) : false,
    }));
  }
});
