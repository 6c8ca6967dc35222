// Entry point of the counter UI: applies the remembered language, starts the outbox listener and the session, mounts the app.
import { createApp } from 'vue';
import App from './App.vue';
import { lang } from './i18n';
import { startOutbox, takeCounterOutbox } from './record';
import { start, state } from './session';
import './counter.css';

document.documentElement.lang = lang.value;
createApp(App).mount('#app');
// The outbox listener first, so no change of the background sender is missed.
void startOutbox()
  .then(() => start())
  .then(() => takeCounterOutbox(state.counter?.outbox));
