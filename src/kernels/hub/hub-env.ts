import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The environment as huggingface_hub reads it (its `constants.py`), so that kernelseal and the
 * Python tools share a cache, a token and an offline switch: one home for each variable.
 */

/** A boolean variable: huggingface_hub's `_is_true` (1, true, yes, on; any case). */
export function envFlag(name: string): boolean {
  return ['1', 'TRUE', 'YES', 'ON'].includes((process.env[name] ?? '').trim().toUpperCase());
}

/** HF_HUB_OFFLINE (or KERNELSEAL_OFFLINE): no network at all, from any part of the program. */
export function offlineFromEnv(): boolean {
  return envFlag('HF_HUB_OFFLINE') || envFlag('KERNELSEAL_OFFLINE');
}

/** The Hub: HF_ENDPOINT, else https://huggingface.co. */
export function hubEndpoint(): string {
  return process.env.HF_ENDPOINT || 'https://huggingface.co';
}

/** $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface. */
export function hfHome(): string {
  return process.env.HF_HOME || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
}

/**
 * The cache kernels go to, as the `kernels` library picks it (its `_get_cache_dir`, passed to
 * huggingface_hub as `cache_dir`): HF_KERNELS_CACHE (older, which it still honours), else
 * KERNELS_CACHE; when neither is set, huggingface_hub's own: HF_HUB_CACHE, else the older
 * HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub. An empty variable counts as unset.
 */
export function hubCacheRoot(): string {
  return process.env.HF_KERNELS_CACHE || process.env.KERNELS_CACHE || process.env.HF_HUB_CACHE || process.env.HUGGINGFACE_HUB_CACHE || join(hfHome(), 'hub');
}

/**
 * The token: HF_TOKEN, else the older HUGGING_FACE_HUB_TOKEN, else the file `hf auth login`
 * writes ($HF_TOKEN_PATH, else $HF_HOME/token). Undefined when there is none.
 */
export function hubToken(): string | undefined {
  const fromEnv = process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN;
  if (fromEnv) return fromEnv.trim();
  try {
    const text = readFileSync(process.env.HF_TOKEN_PATH || join(hfHome(), 'token'), 'utf8').trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}
