import { createCipheriv } from "node:crypto";

/** APISIX's default data encryption key ring entry: AES-128-CBC with key = IV. */
const keyring = "qeddd145sfvddff3";

/** Encrypts a value as APISIX 3.18 does at rest with its default key ring. */
export function encrypt(text: string): string {
  const cipher = createCipheriv("aes-128-cbc", keyring, keyring);
  return Buffer.concat([cipher.update(text, "utf8"), cipher.final()]).toString("base64");
}

/** Copies a value, passing every field APISIX encrypts at rest through `transform`. */
export function mapSecrets(value: Record<string, unknown>, transform: (s: string) => string) {
  const copy = JSON.parse(JSON.stringify(value));
  const plugins = copy.plugins ?? {};
  if (typeof plugins["key-auth"]?.key === "string")
    plugins["key-auth"].key = transform(plugins["key-auth"].key);
  for (const instance of plugins["ai-proxy-multi"]?.instances ?? []) {
    for (const name of Object.keys(instance.auth?.header ?? {})) {
      instance.auth.header[name] = transform(instance.auth.header[name]);
    }
  }
  const limiting = plugins["ai-rate-limiting"];
  if (typeof limiting?.redis_password === "string")
    limiting.redis_password = transform(limiting.redis_password);
  return copy;
}

/** Words a JSON syntax error the way lua-cjson does. */
export function cjsonMessage(raw: string): string {
  const at = [...raw].findIndex(
    (char, i) => i > 0 && raw[i - 1] === "{" && char !== '"' && char !== "}" && char.trim() !== "",
  );
  if (at > 0) return `Expected object key string but found invalid token at character ${at + 1}`;
  return "Expected value but found invalid token at character 1";
}
