// Entry point of the counter UI: applies the remembered language, starts the session, mounts the app.
import { createApp } from 'vue';
import App from './App.vue';
import { lang } from './i18n';
import { start } from './session';
import './counter.css';

document.documentElement.lang = lang.value;
createApp(App).mount('#app');
void start();
