/** Loads the proxy's configuration file, choosing the reader by extension. */
import { readConfigText } from '../../core/config.js';
import { parseIec104mm2ssCsv, type CsvReadOptions, type ProxyConfigLoad } from './config-csv.js';
import { parseProxyYaml } from './config-yaml.js';

/**
 * `.yaml`/`.yml` files are read as YAML (all or nothing); anything else as an IEC104MM2SS initial
 * file, whatever its name (the original accepts any name given with `--ini`). A missing or
 * unreadable file is a {@link ConfigError} naming it. `strict` applies to CSV (YAML is always strict).
 */
export function loadProxyConfig(file: string, options: CsvReadOptions = {}): ProxyConfigLoad {
  const text = readConfigText(file);
  return isYamlFile(file) ? parseProxyYaml(file, text) : parseIec104mm2ssCsv(file, text, options);
}

/** Whether {@link loadProxyConfig} reads `file` as YAML. */
export function isYamlFile(file: string): boolean {
  return /\.ya?ml$/i.test(file);
}
