import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { AdminApp } from './admin/AdminApp.tsx';
import { I18nProvider } from './i18n.tsx';
import './styles.css';

const root = document.getElementById('root');
if (root === null) throw new Error('no #root element');
createRoot(root).render(
  <StrictMode>
    {window.location.pathname.startsWith('/admin') ? (
      <AdminApp />
    ) : (
      <I18nProvider>
        <App />
      </I18nProvider>
    )}
  </StrictMode>,
);
