/** Loads the proxy's configuration file, choosing the reader by extension. */
import { readConfigText } from '../../core/config.js';
import { parseIec104mm2ssCsv, type ProxyConfigLoad } from './config-csv.js';
import { parseProxyYaml } from './config-yaml.js';

/**
 * `.yaml`/`.yml` files are read as YAML (all or nothing); anything else as an IEC104MM2SS initial
 * file, whatever its name (the original accepts any name given with `--ini`). A missing or
 * unreadable file is a {@link ConfigError} naming it.
 */
export function loadProxyConfig(file: string): ProxyConfigLoad {
  const text = readConfigText(file);
  return /\.ya?ml$/i.test(file) ? parseProxyYaml(file, text) : parseIec104mm2ssCsv(file, text);
}
