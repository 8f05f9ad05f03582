// Parse messages the way Home Assistant's frontend does (intl-messageformat's parser, tags on).
// stdin: a JSON object {key: message}; stdout: a JSON object {key: error} of the messages that fail.
import { parse } from "@formatjs/icu-messageformat-parser";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const messages = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const errors = {};
for (const [key, message] of Object.entries(messages)) {
  try {
    parse(message, { ignoreTag: false });
  } catch (err) {
    errors[key] = `${err.message}: ${JSON.stringify(message)}`;
  }
}
process.stdout.write(JSON.stringify(errors));
