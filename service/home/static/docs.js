/* Starts Swagger UI (served from this service, from the swagger-ui-bundle package) on /openapi.json. */
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: node.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    validatorUrl: null,  // no badge from validator.swagger.io: nothing is loaded from elsewhere
    deepLinking: true
  });
})();
