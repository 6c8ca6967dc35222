// The current language (zh-CN by default, remembered on this PC) and t(key) to read a string in it.
import { ref } from 'vue';
import { zhCN, type MessageKey, type Messages } from './zh-CN';
import { en } from './en';

export type Lang = 'zh-CN' | 'en';

const LANG_KEY = 'yueshang.lang';
const TABLES: Record<Lang, Messages> = { 'zh-CN': zhCN, en };

function remembered(): Lang {
  try {
    return localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh-CN';
  } catch {
    return 'zh-CN';
  }
}

export const lang = ref<Lang>(remembered());

export function setLang(l: Lang): void {
  lang.value = l;
  document.documentElement.lang = l;
  try {
    localStorage.setItem(LANG_KEY, l);
  } catch {
    // A locked-down profile without storage still gets the switch for this session.
  }
}

/** Reading lang.value here makes every template that calls t() re-render on a switch. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  let s: string = TABLES[lang.value][key];
  if (params) for (const [k, v] of Object.entries(params)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

export type { MessageKey };
