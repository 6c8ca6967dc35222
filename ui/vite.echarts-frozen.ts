// Vite plugin that lets Apache ECharts load under Tauri's "freezePrototype": true (Object.prototype frozen before any script runs).
import type { Plugin } from 'vite';

// ECharts' Scheduler copies every enumerable name of two prototypes onto plain objects at import time,
// 'constructor' among them; with Object.prototype frozen that assignment throws (ES modules are strict)
// and the whole bundle stops. The copy of 'constructor' is never used, so it is skipped. If an ECharts
// upgrade changes this code, the build stops here instead of the window going blank at the hall.
const FILE = /[\\/]echarts[\\/]lib[\\/]core[\\/]Scheduler\.js$/;
const FROM = /for \(var name_1 in Clz\.prototype\) \{(\s*\/\/ Do not use hasOwnProperty)?\s*target\[name_1\] = noop;/;
const TO = "for (var name_1 in Clz.prototype) { if (name_1 !== 'constructor') target[name_1] = noop;";

export function echartsFrozenPrototype(): Plugin {
  return {
    name: 'yueshang-echarts-frozen-prototype',
    enforce: 'pre',
    transform(code, id) {
      if (!FILE.test(id)) return null;
      if (!FROM.test(code)) this.error('echarts/lib/core/Scheduler.js changed: check mockMethods under a frozen Object.prototype again');
      return { code: code.replace(FROM, TO), map: null };
    },
  };
}
