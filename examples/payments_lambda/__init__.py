"""The payments Lambda example: an API handler and a DynamoDB Streams consumer over ``generated_example.payments``.

    handler.py       the API function (``examples.payments_lambda.handler.handler``)
    stream.py        the stream consumer (``examples.payments_lambda.stream.handler``)
    invoke_local.py  runs either one as Lambda would (env, context, warm and cold invocations)
    build.py         the deployment zip and the SAM template (``make lambda-build``)
    template.py      the SAM template generator, from the compiled schemas

Only ``handler.py`` and ``stream.py`` (and this file) go into the deployment zip. Importing this
package imports nothing else.
"""
