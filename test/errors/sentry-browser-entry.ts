// The entry the Sentry CORS test bundles for its page: @sentry/browser as a shop would load it (window.Sentry).
export * from '@sentry/browser';
