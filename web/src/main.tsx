import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { loadChart } from './components/LazyChart.tsx';
import './styles.css';

// Fetch the chart code in parallel with the first API calls.
void loadChart();

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
