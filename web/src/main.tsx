import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import './styles.css';

// The chart code is fetched and compiled in parallel with the app (index.html preloads it) and
// run once the first panel queries are sent (PanelView).
createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
