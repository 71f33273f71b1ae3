// Starts Swagger UI on this server's OpenAPI document (GET /docs). A file rather than an
// inline script, so the page's Content-Security-Policy can say script-src 'self' and no more.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  persistAuthorization: false,
});
