import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { useStore } from './state/store';
import './styles.css';

document.documentElement.dataset.theme = useStore.getState().theme;
window.addEventListener('popstate', () => useStore.getState().syncFromLocation());
useStore.getState().syncFromLocation();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
