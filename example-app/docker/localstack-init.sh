#!/bin/sh
# LocalStack runs this once S3 is ready (mounted into /etc/localstack/init/ready.d/ by docker-compose.yml):
# it creates the bucket and lets anyone read public media (the "media/" prefix, AWS_PUBLIC_MEDIA_LOCATION)
# and static files ("static/", which the app collects there at start-up).
# Private media ("private/") stays unreadable without a presigned URL. The same policy works on AWS once
# the bucket's Block Public Access settings allow public bucket policies.
set -eu
BUCKET="${EXAMPLE_BUCKET:-example-media}"
awslocal s3api head-bucket --bucket "$BUCKET" 2>/dev/null || awslocal s3api create-bucket --bucket "$BUCKET"
awslocal s3api put-bucket-policy --bucket "$BUCKET" --policy "{
  \"Version\": \"2012-10-17\",
  \"Statement\": [{
    \"Sid\": \"PublicReadForPublicMediaAndStaticFiles\",
    \"Effect\": \"Allow\",
    \"Principal\": \"*\",
    \"Action\": \"s3:GetObject\",
    \"Resource\": [\"arn:aws:s3:::$BUCKET/media/*\", \"arn:aws:s3:::$BUCKET/static/*\"]
  }]
}"
echo "bucket $BUCKET ready (public read on media/* and static/*)"
